"""Intake: the channel-neutral message contract, the classifier and the email channel adapter."""
