"""The station around the robot: table, wall, floor, lights, cameras and objects."""
