"""What every Spaceport API view shares."""
