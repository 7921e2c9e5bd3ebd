"""Commits: moving an upload from the organization's loadingzone into a space, server-side and resumably."""
