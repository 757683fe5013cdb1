# Inputs for `spin score_holdout`: points the flow never produced.
ARTIFACTS = {"holdout": [(100, 200.0), (60, 118.0)]}
