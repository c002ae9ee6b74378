"""Timers: each job asks the core to do due work; claims live in the database."""
