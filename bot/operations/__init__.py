"""What a person can ask the bot to do, in one place for Slack, the terminal and the schedule."""
