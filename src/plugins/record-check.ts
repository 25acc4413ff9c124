/**
 * Checks a record a plugin returned from onCapture against
 * schemas/record.schema.json before it reaches the sinks: a malformed record
 * would fail the whole batch it is written with.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import type { ValidateFunction } from "ajv";
import schema from "../../schemas/record.schema.json" with { type: "json" };

let validator: ValidateFunction | undefined;

/** Whether `record` is a valid capture record. */
export function isValidRecord(record: unknown): boolean {
  validator ??= new Ajv2020({ allErrors: false, strict: false }).compile(schema);
  return validator(record) === true;
}
