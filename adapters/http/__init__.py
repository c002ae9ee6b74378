"""The one aiohttp server: health now; /slack/events, /api/messages and /api/v1 join it."""
