from django.dispatch import Signal

# A round's groups were made and are about to be introduced; sent after the round commits,
# with `round_id`. The conversations app opens each group's conversation (conversations.
# signals), so that the pair can write to each other from the intro on.
round_introduced = Signal()
