"""ABC by value and XYZ by variability on a known frame, and service floors per class."""

import numpy as np
import pandas as pd
import pytest

from forecasting.engine.errors import InputError
from forecasting.policy.classify import abc_xyz, service_floors


def test_abc_xyz_on_a_known_frame():
    # given: values (mean x unit cost) 80, 15, 4, 1 -> value shares before each item 0, 0.80, 0.95, 0.99
    demand = pd.DataFrame(
        {
            "item_id": np.repeat(["w", "x", "y", "z"], 4),
            "date": np.tile(pd.date_range("2024-01-01", periods=4, freq="D"), 4),
            "quantity": [8, 8, 8, 8, 1, 3, 1, 3, 0, 2, 0, 2, 0, 0, 0, 4],
        }
    )
    unit_cost = {"w": 10.0, "x": 7.5, "y": 4.0, "z": 1.0}

    # when
    classes = abc_xyz(demand, unit_cost)

    # then: cv 0, 0.5, 1 and sqrt(3)
    assert classes["item_id"].tolist() == ["w", "x", "y", "z"]
    assert classes["value"].tolist() == [80.0, 15.0, 4.0, 1.0]
    assert classes["cv"].tolist() == pytest.approx([0.0, 0.5, 1.0, np.sqrt(3.0)])
    assert classes["abc_xyz"].tolist() == ["AX", "BY", "CZ", "CZ"]


def test_service_floors_take_the_highest_matching_key():
    floors = service_floors(pd.Series(["AX", "BZ", "CY"]), {"A": 0.95, "Z": 0.9, "BZ": 0.97})

    assert floors.tolist() == [0.95, 0.97, 0.0]


@pytest.mark.parametrize(("floors", "message"), [({"Q": 0.9}, "not one of"), ({"A": 1.0}, "below 1")])
def test_bad_service_floors_are_refused(floors, message):
    with pytest.raises(InputError, match=message):
        service_floors(pd.Series(["AX"]), floors)
