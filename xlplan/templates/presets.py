"""Preset cells with dropdowns: the hardware and the loss law a template prices with.

A hardware preset cell (an Excel data-validation list of the preset names) drives the
seven hardware settings by formula, ``INDEX(XLPLAN_HARDWARE(preset), 1, k)``, one cell each;
a value typed in the override row below replaces that one setting, and the row's label
(a formula) says which preset is in force and how many settings are overridden. The law
cell gets a dropdown of the law presets. Shared by every template that prices hardware.
"""

from openpyxl.worksheet.datavalidation import DataValidation

from ..engine.constants import DEFAULT_HARDWARE
from ..engine.hardware import HARDWARE_PRESETS
from ..engine.laws import LAW_PRESETS
from ..shared.labels import HARDWARE_FORMATS, HARDWARE_LABELS
from ..shared.styles import header_row, put
from .inputs import MFU, POSITIVE, number_rule

__all__ = ["dropdown", "law_dropdown", "hardware_block", "SETTING_COLUMNS"]

SETTING_COLUMNS = "BCDEFGH"


def dropdown(ws, ref, names, what):
    """A list data validation on ``ref``: pick one of ``names``; anything else is refused
    with a message listing them."""
    listed = ",".join(names)
    validation = DataValidation(
        type="list", formula1=f'"{listed}"', allow_blank=False, showDropDown=False
    )  # False shows the arrow (OOXML quirk)
    validation.promptTitle, validation.prompt = what, f"Pick a {what.lower()} from the list"
    validation.errorTitle = f"Unknown {what.lower()}"
    validation.error = f"Choose one of: {', '.join(names)}"[:255]
    validation.showInputMessage = validation.showErrorMessage = True
    ws.add_data_validation(validation)
    validation.add(ref)
    return validation


def law_dropdown(ws, ref):
    """The law cell ``ref`` picks one of the law presets."""
    return dropdown(ws, ref, list(LAW_PRESETS), "Loss law preset")


def hardware_block(ws, row, preset=DEFAULT_HARDWARE):
    """Hardware rows around ``row`` (the settings in force, which formulas read as
    ``$B$row:$H$row``): the preset cell two rows above, headers one above, overrides below.

    Returns the preset cell's reference.
    """
    preset_ref, override = f"$B${row - 2}", row + 1
    ws[f"A{row - 2}"] = "Hardware preset (pick from the list)"
    put(ws, f"B{row - 2}", preset, "input")
    dropdown(ws, f"B{row - 2}", list(HARDWARE_PRESETS), "Hardware preset")
    ws[f"A{row - 1}"] = "GPU prices and utilisation (MFU = share of peak FLOP/s used)"
    header_row(ws, row - 1, 2, HARDWARE_LABELS, align="center")
    overrides = f"$B${override}:$H${override}"
    put(
        ws,
        f"A{row}",
        f'="In force: preset "&{preset_ref}&IF(COUNT({overrides})>0,'
        f'", "&COUNT({overrides})&" setting(s) overridden below","")',
        "result",
        bold=True,
    )
    ws[f"A{override}"] = "Your own values (blank = the preset's)"
    for k, letter in enumerate(SETTING_COLUMNS):
        mine = f"{letter}${override}"
        put(
            ws,
            f"{letter}{row}",
            f"=IF(ISBLANK({mine}),INDEX(XLPLAN_HARDWARE({preset_ref}),1,{k + 1}),{mine})",
            "result",
            HARDWARE_FORMATS[k],
        )
        put(ws, f"{letter}{override}", None, "input", HARDWARE_FORMATS[k])
        rule = MFU if HARDWARE_FORMATS[k] == "percent" else POSITIVE
        number_rule(ws, f"{letter}{override}", rule, HARDWARE_LABELS[k], optional=True)
    return preset_ref
