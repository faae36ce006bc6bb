"""Training on several devices and several machines (see the README's "Several devices and several machines")."""
