"""Administration: API users and carrier accounts (admin-only pages)."""
