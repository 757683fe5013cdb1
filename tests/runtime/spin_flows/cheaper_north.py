# Override one input of `fit`: the north region's points, at half the price.
ARTIFACTS = {"points": {"north": [(50, 50.0), (70, 70.0), (90, 90.0)],
                        "south": [(40, 60.0), (60, 90.0), (80, 120.0)]}}
