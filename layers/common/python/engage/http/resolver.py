"""The API's resolver and its one place that maps errors to `{"error": {"code", "message"}}`."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from engage.core.errors import EngageError
from engage.core.observability import logger


def error_response(status: int, code: str, message: str, details: dict | None = None) -> Response:
    error: dict = {"code": code, "message": message}
    if details:
        error["details"] = details
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body={"error": error})


def describe_validation(errors: list[dict]) -> str:
    parts = []
    for error in errors[:5]:
        location = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body",))
        parts.append(f"{location or 'body'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def build_resolver() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)

    @app.exception_handler(EngageError)
    def _engage_error(error: EngageError) -> Response:
        logger.info("request refused", extra={"code": error.code, "status": error.status})
        return error_response(error.status, error.code, error.message, error.details)

    @app.exception_handler(RequestValidationError)
    def _validation_error(error: RequestValidationError) -> Response:
        message = describe_validation(list(error.errors()))
        logger.info("request invalid", extra={"detail": message})
        return error_response(422, "validation_error", message)

    @app.not_found
    def _not_found(_: Exception) -> Response:
        return error_response(
            404,
            "not_found",
            f"no route for {app.current_event.request_context.http.method} {app.current_event.raw_path}",
        )

    return app
