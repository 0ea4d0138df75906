"""In-app notifications: a line on someone's dashboard when something needs them."""
