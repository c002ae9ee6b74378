"""Microsoft Teams: the app package's manifest and icons, dialogs, and (with botbuilder) the
bot that answers /api/messages."""
