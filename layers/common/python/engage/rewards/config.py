"""The referral programme's tunable numbers (stored under CONFIG / rewards; defaults from DESIGN §4)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from engage.core.types import TagName


class Tier(BaseModel):
    """Reached at `at` successful invites: the tag, and the pool rewards come from from then on."""

    model_config = ConfigDict(extra="forbid")

    at: int = Field(ge=1, le=1000)
    tag: TagName
    pool_id: str | None = Field(default=None, max_length=64, description="The reward pool of this tier.")


DEFAULT_TIERS = [
    Tier(at=1, tag="referral:tier-1"),
    Tier(at=5, tag="referral:tier-5"),
    Tier(at=10, tag="referral:tier-10"),
]


class ReferralConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    business_number: str | None = Field(
        default=None, pattern=r"^[1-9]\d{6,14}$", description="The shop's WhatsApp number for wa.me links (digits)."
    )
    threshold: float = Field(default=199, ge=0, le=1_000_000, description="The invitee's first order must reach it.")
    double_sided: bool = Field(default=True, description="The invitee gets a welcome code too.")
    welcome_pool_id: str | None = Field(default=None, max_length=64)
    tiers: list[Tier] = Field(default_factory=lambda: [t.model_copy() for t in DEFAULT_TIERS], max_length=10)
    max_rewarded: int = Field(default=10, ge=0, le=1000, description="Rewarded invites per inviter, at most.")
    lock_per_hour: int = Field(default=50, ge=1, le=100_000, description="More invitations an hour lock the code.")
    reward_template: str = Field(default="referral_reward", min_length=1, max_length=512)
    welcome_template: str = Field(default="referral_welcome", min_length=1, max_length=512)
    template_language: str = Field(default="en", min_length=2, max_length=15)

    @model_validator(mode="after")
    def _tiers(self) -> ReferralConfig:
        self.tiers = sorted(self.tiers, key=lambda t: t.at)
        if len({t.at for t in self.tiers}) != len(self.tiers):
            raise ValueError("two tiers at the same number of invites")
        return self

    def tier_for(self, successful: int) -> Tier | None:
        """The highest tier reached with `successful` invites."""
        reached = [t for t in self.tiers if t.at <= successful]
        return reached[-1] if reached else None
