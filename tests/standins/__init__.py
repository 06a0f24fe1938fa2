"""Local stand-ins for services outside the project, speaking their real protocols."""
