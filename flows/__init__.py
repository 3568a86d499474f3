"""Orchestration: the daily PCP flow (Prefect 3) that adds one day of plant data and rebuilds what it changes.

`queijaria daily` runs it once (ephemeral Prefect, no server), `queijaria daily --serve` on its schedule; see
flows/daily.py for the steps and the README's "Daily operations" for cron, systemd and the Prefect UI.
"""
