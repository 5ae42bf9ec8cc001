"""The HTML pages: routes, page models derived from the views, and the template environment."""
