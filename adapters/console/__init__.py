"""The terminal surface: `baton chat --as alice`."""
