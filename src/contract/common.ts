// Building blocks of the answers' schemas: times, issues, open JSON objects.
import { z } from 'zod';

/** An ISO 8601 time in UTC, as every answer writes times. */
export const IsoTime = z.iso.datetime();
export const NullableIsoTime = IsoTime.nullable();

/** A request field that is wrong or worth a warning; `line` is set for YAML bodies. */
export const FieldIssue = z.strictObject({
  path: z.string(),
  message: z.string(),
  line: z.number().int().optional(),
});
export type FieldIssue = z.infer<typeof FieldIssue>;

/** A dataset problem: the file, its 1-based line (null for the whole file) and what is wrong. */
export const FileIssue = z.strictObject({
  file: z.string(),
  line: z.number().int().nullable(),
  message: z.string(),
});
export type FileIssue = z.infer<typeof FileIssue>;

/** A JSON object whose keys are not fixed (a request as stored, sweep values). */
export const JsonObject = z.record(z.string(), z.unknown());

/** A number as JSON carries it: NaN and ±Infinity arrive as null. */
export const JsonNumber = z.number().nullable();

/** A 204 answer: no body. */
export const NoContent = z.null();

/** The `:id` of a route (a run, sweep, job, artifact, webhook or worker). */
export const IdParams = z.object({ id: z.string().min(1).max(100) });

/** Compile-time: A and B have the same keys with compatible values both ways (a record type of the domain that an
 * answer passes on as it is must not gain a field its schema does not name). */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export type Expect<T extends true> = T;
