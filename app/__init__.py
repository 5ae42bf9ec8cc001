"""Talking Piece: facilitated reflective practice sessions, kept in step live."""
