/**
 * A command or input that cannot be applied. Names the object and the field so
 * that an operator can find the offending item in a large injection.
 */
export class InventoryValidationError extends Error {
  constructor(
    /** e.g. `dataset "/A/B/RAW"` or `block replica "/A/B/RAW#b1" at "T2_X"` */
    readonly object: string,
    /** The field at fault, or `null` when the object as a whole is invalid. */
    readonly field: string | null,
    readonly reason: string,
  ) {
    super(field ? `${object}: field "${field}": ${reason}` : `${object}: ${reason}`);
    this.name = "InventoryValidationError";
  }
}
