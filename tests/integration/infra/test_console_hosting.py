"""The marketer console in AWS: a private bucket read only by its CloudFront distribution (origin
access control), HTTPS, caching, SPA routing, and sign-in on the user pool's hosted UI with PKCE."""

from __future__ import annotations

from local.infra import Intrinsic, load_template

TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"


def _of_type(kind: str) -> dict[str, dict]:
    return {k: v for k, v in RESOURCES.items() if v["Type"] == kind}


def test_the_console_bucket_is_private_encrypted_and_owner_enforced():
    bucket = RESOURCES["ConsoleBucket"]["Properties"]
    block = bucket["PublicAccessBlockConfiguration"]
    assert all(
        block[k] is True for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
    )
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]


def test_only_the_distribution_reads_the_bucket_and_only_over_tls():
    policy = RESOURCES["ConsoleBucketPolicy"]["Properties"]
    assert policy["Bucket"] == Intrinsic("Ref", "ConsoleBucket")
    allow, deny = policy["PolicyDocument"]["Statement"]
    assert allow["Effect"] == "Allow" and allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"  # no ListBucket: a missing path is a 403, which the SPA routing answers
    assert allow["Resource"].value == "${ConsoleBucket.Arn}/app/*"
    source = allow["Condition"]["StringEquals"]["AWS:SourceArn"]
    assert source.tag == "Sub" and source.value.endswith(":distribution/${ConsoleDistribution}")
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_cloudfront_serves_the_app_over_https_with_origin_access_control_caching_and_spa_routing():
    ((name, oac),) = _of_type("AWS::CloudFront::OriginAccessControl").items()
    config = oac["Properties"]["OriginAccessControlConfig"]
    assert (config["OriginAccessControlOriginType"], config["SigningBehavior"], config["SigningProtocol"]) == (
        "s3",
        "always",
        "sigv4",
    )
    dist = RESOURCES["ConsoleDistribution"]["Properties"]["DistributionConfig"]
    (origin,) = dist["Origins"]
    assert origin["DomainName"] == Intrinsic("GetAtt", "ConsoleBucket.RegionalDomainName")
    assert origin["OriginAccessControlId"] == Intrinsic("GetAtt", f"{name}.Id")
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # OAC, not the legacy identity
    behaviour = dist["DefaultCacheBehavior"]
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["CachePolicyId"] == CACHING_OPTIMIZED and behaviour["Compress"] is True
    assert set(behaviour["AllowedMethods"]) <= {"GET", "HEAD", "OPTIONS"}
    routed = {e["ErrorCode"]: (e["ResponseCode"], e["ResponsePagePath"]) for e in dist["CustomErrorResponses"]}
    assert routed == {403: (200, "/app/index.html"), 404: (200, "/app/index.html")}
    assert dist["DefaultRootObject"] == "app/index.html"


def test_the_console_signs_in_on_the_hosted_ui_with_the_code_flow_and_no_secret():
    client = RESOURCES["ConsoleClient"]["Properties"]
    assert client["UserPoolId"] == Intrinsic("Ref", "UserPool")  # the API's own pool, not a second one
    assert client["GenerateSecret"] is False  # a public client: PKCE protects the code exchange
    assert client["AllowedOAuthFlows"] == ["code"] and client["AllowedOAuthFlowsUserPoolClient"] is True
    assert "openid" in client["AllowedOAuthScopes"]
    assert [u.value for u in client["CallbackURLs"]] == ["https://${ConsoleDistribution.DomainName}/app/callback"]
    assert all(u.value.startswith("https://") for u in client["LogoutURLs"])
    domain = RESOURCES["ConsoleUserPoolDomain"]["Properties"]
    assert domain["UserPoolId"] == Intrinsic("Ref", "UserPool")


def test_the_api_accepts_the_console_tokens_and_its_origin():
    api = RESOURCES["HttpApi"]["Properties"]
    jwt = api["Auth"]["Authorizers"]["CognitoJwt"]["JwtConfiguration"]
    assert Intrinsic("Ref", "ConsoleClient") in jwt["audience"]
    cors = api["CorsConfiguration"]
    assert [o.value for o in cors["AllowOrigins"]] == ["https://${ConsoleDistribution.DomainName}"]
    assert "authorization" in cors["AllowHeaders"]


def test_the_stack_says_where_the_console_is_and_where_to_upload_it():
    outputs = TEMPLATE["Outputs"]
    assert {
        "ConsoleUrl",
        "ConsoleBucketName",
        "ConsoleDistributionId",
        "ConsoleClientId",
        "ConsoleSignInDomain",
    } <= set(outputs)


def test_only_the_console_may_upload_to_the_imports_bucket_from_a_browser():
    rules = RESOURCES["ImportsBucket"]["Properties"]["CorsConfiguration"]["CorsRules"]
    assert [o.value for rule in rules for o in rule["AllowedOrigins"]] == ["https://${ConsoleDistribution.DomainName}"]
    assert {m for rule in rules for m in rule["AllowedMethods"]} == {"PUT", "GET"}
