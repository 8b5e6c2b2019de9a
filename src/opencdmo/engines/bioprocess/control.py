"""Vectorised controllers: DO cascade, split-range pH control, jacket temperature.

All controllers act on measured values at each control step and hold their outputs until
the next step, as a plant DCS does.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["DoCascade", "PhControl", "jacket_temperature_c"]

FloatArray = NDArray[np.float64]


class DoCascade:
    """Integral DO controller driving agitation, then gas flow, then O₂ enrichment.

    The output ``u`` spans 0-3: 0-1 raises agitation from minimum to maximum, 1-2 raises
    the total gas flow from minimum to maximum vvm, 2-3 replaces air by oxygen. DO settles
    within minutes (1/kLa), so at a 5 min control step the loop sees an almost static plant;
    the integral gain is scheduled on the local sensitivity of DO to ``u`` in each segment
    (about 40-80 % air saturation per unit for agitation, 30-350 for gas flow, 400 for
    oxygen), so that each step removes a fixed share of the error.

    Parameters
    ----------
    n_batches : int
        Number of batches controlled together.
    share_per_step : float
        Fraction of the DO error removed per 5 min step, dimensionless.
    """

    REFERENCE_STEP_H = 5.0 / 60.0

    def __init__(self, n_batches: int, share_per_step: float = 0.3) -> None:
        self.output = np.zeros(n_batches)
        self.share_per_step = share_per_step

    @staticmethod
    def sensitivity_pct(output: FloatArray) -> FloatArray:
        """Approximate DO change per unit of cascade output, % air saturation."""
        agitation = 80.0 / (1.0 + np.clip(output, 0.0, 1.0))
        gas = 350.0 / np.sqrt(1.0 + 9.0 * np.clip(output - 1.0, 0.0, 1.0))
        return np.where(output < 1.0, agitation, np.where(output < 2.0, gas, 400.0))

    def update(self, do_measured_pct: FloatArray, setpoint_pct: FloatArray, step_h: float) -> None:
        """Advance the controller by one step.

        Parameters
        ----------
        do_measured_pct : ndarray
            DO reading, % air saturation.
        setpoint_pct : ndarray
            DO set point, % air saturation.
        step_h : float
            Control step, h.
        """
        share = self.share_per_step * min(step_h / self.REFERENCE_STEP_H, 2.5)
        delta = share * (setpoint_pct - do_measured_pct) / self.sensitivity_pct(self.output)
        self.output = np.clip(self.output + delta, 0.0, 3.0)

    def actuators(
        self,
        agitation_min_rpm: FloatArray,
        agitation_max_rpm: FloatArray,
        gas_min_slpm: FloatArray,
        gas_max_slpm: FloatArray,
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Commanded agitation (rpm), air flow (L/min) and O₂ flow (L/min).

        Parameters
        ----------
        agitation_min_rpm, agitation_max_rpm : ndarray
            Agitation range, rpm.
        gas_min_slpm, gas_max_slpm : ndarray
            Total sparge range, standard L/min.

        Returns
        -------
        tuple of ndarray
            Agitation, air flow and oxygen flow.
        """
        u = self.output
        agitation = agitation_min_rpm + (agitation_max_rpm - agitation_min_rpm) * np.clip(
            u, 0.0, 1.0
        )
        gas = gas_min_slpm + (gas_max_slpm - gas_min_slpm) * np.clip(u - 1.0, 0.0, 1.0)
        oxygen_share = np.clip(u - 2.0, 0.0, 1.0)
        return agitation, gas * (1.0 - oxygen_share), gas * oxygen_share


class PhControl:
    """Split-range integral pH controller: CO₂ sparge above the dead band, base below it.

    The output spans -1 (full CO₂ sparge) to +1 (full base pump). Base acts on pH at once
    while CO₂ acts through the stripping time constant (about 0.3-1 h), so a pure integral
    action is used and the integration time per step is capped at 10 min: coarser steps
    slow the loop rather than destabilise it.

    Parameters
    ----------
    n_batches : int
        Number of batches controlled together.
    integral_gain_per_ph_h : float
        Output change per pH unit of error outside the dead band per hour.
    """

    MAX_INTEGRATION_H = 10.0 / 60.0

    def __init__(self, n_batches: int, integral_gain_per_ph_h: float = 6.0) -> None:
        self.output = np.zeros(n_batches)
        self.integral_gain_per_ph_h = integral_gain_per_ph_h

    def update(
        self, ph_measured: FloatArray, setpoint: FloatArray, deadband: FloatArray, step_h: float
    ) -> None:
        """Advance the controller by one step.

        Parameters
        ----------
        ph_measured : ndarray
            pH reading.
        setpoint, deadband : ndarray
            Set point and half-width of the dead band, pH units.
        step_h : float
            Control step, h.
        """
        raw = setpoint - ph_measured
        error = np.sign(raw) * np.maximum(np.abs(raw) - deadband, 0.0)
        delta = self.integral_gain_per_ph_h * min(step_h, self.MAX_INTEGRATION_H) * error
        self.output = np.clip(self.output + delta, -1.0, 1.0)

    def base_fraction(self) -> FloatArray:
        """Base pump demand, fraction of its maximum rate."""
        return np.maximum(self.output, 0.0)

    def co2_fraction(self) -> FloatArray:
        """CO₂ sparge demand, fraction of its maximum flow."""
        return np.maximum(-self.output, 0.0)


def jacket_temperature_c(
    setpoint_c: FloatArray, measured_c: FloatArray, time_constant_h: FloatArray
) -> FloatArray:
    """Jacket temperature a proportional jacket loop would command, °C.

    Parameters
    ----------
    setpoint_c, measured_c : ndarray
        Set point and reading, °C.
    time_constant_h : ndarray
        Thermal time constant of the vessel, h (larger vessels need more jacket offset).

    Returns
    -------
    ndarray
        Jacket temperature, °C, limited to 4-50 °C.
    """
    return np.clip(setpoint_c + (2.0 + time_constant_h) * (setpoint_c - measured_c), 4.0, 50.0)
