"""WhatsApp groups (the Groups API): circles of small invite-only groups, invitations with a join
incentive, membership from the group webhooks, a weekly content plan and the groups' health.
See docs/groups.md."""
