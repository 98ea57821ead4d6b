"""Local services: the admins' directory, its validation, search by place or location, and opening hours."""
