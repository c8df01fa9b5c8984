class InputError(ValueError):
    """Bad input to the numeric core: the message names the file, column or row and is shown as is."""
