"""Rewards: coupon pools with unique, single-use codes, and referrals that reward invites which buy."""
