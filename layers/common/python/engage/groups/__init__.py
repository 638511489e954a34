"""WhatsApp groups (the Groups API): circles of small invite-only groups, invitations with a join
incentive, membership from the group webhooks, a weekly content plan and the groups' health.
See docs/groups.md."""

# The Groups API's webhook fields (engage.groups.webhooks parses them). Here, apart from the
# notice models, so the webhook can route a change by its field without building those models.
GROUP_FIELDS = (
    "group_lifecycle_update",
    "group_participants_update",
    "group_settings_update",
    "group_status_update",
)
