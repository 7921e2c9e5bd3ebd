"""A made-up cloud in one folder, to show that adding a provider needs nothing outside its package.

It keeps objects in process memory, so tests can see what Spaceport asked of it.
"""
