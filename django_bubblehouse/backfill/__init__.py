"""Backfills and full replaces: the machinery behind ``manage.py bubblehouse_backfill``."""
