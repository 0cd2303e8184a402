// The string that may become an argument of a child process: never read as a flag, no NUL, no line break.
import { z } from 'zod';

export const safeString = z
  .string()
  .min(1, 'must not be empty')
  .max(4096, 'is too long')
  .refine((s) => !s.startsWith('-'), 'must not begin with "-" (it would read as a flag)')
  .refine((s) => !/[\0\r\n]/.test(s), 'must not contain NUL or line breaks');
