ARTIFACTS = {"delay": 3}
