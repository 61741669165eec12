/**
 * Failure classification (spec §5.2): an error becomes an errno-like exit code,
 * from the storage layer's code when there is one, else from the message by a
 * substring table (what FTS and gfal2 print); the irrecoverable set is the one
 * FTS uses — retrying from the same source will not help.
 */
export interface FailureClass {
  /** errno-like code; −1 = not submitted. */
  readonly exitCode: number;
  readonly name: string;
  readonly recoverable: boolean;
}

const ERRNO: Record<string, number> = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  E2BIG: 7,
  EAGAIN: 11,
  EACCES: 13,
  EEXIST: 17,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  EFBIG: 27,
  ENOSPC: 28,
  ENAMETOOLONG: 36,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EKEYEXPIRED: 127,
  // Our own, above the errno range: a verified copy that did not match.
  ECHECKSUM: 1001,
  ESIZE: 1002,
  ENOTSTAGED: 1003,
};

const IRRECOVERABLE = new Set([
  "NOTSUBMITTED",
  "ENOENT",
  "EPERM",
  "EACCES",
  "EEXIST",
  "EISDIR",
  "ENAMETOOLONG",
  "E2BIG",
  "ENOTDIR",
  "EFBIG",
  "EINVAL",
]);

const MESSAGE_TABLE: [RegExp, string][] = [
  [/no such file|not found|does not exist/i, "ENOENT"],
  [/permission denied|not authori[sz]ed/i, "EACCES"],
  [/operation not permitted/i, "EPERM"],
  [/file exists|already exists/i, "EEXIST"],
  [/checksum/i, "ECHECKSUM"],
  [/size mismatch/i, "ESIZE"],
  [/no space|quota exceeded|disk full/i, "ENOSPC"],
  [/credential|proxy.*expired|certificate.*expired/i, "EKEYEXPIRED"],
  [/timed? ?out|timeout/i, "ETIMEDOUT"],
  [/connection refused|connection error|could not connect/i, "ECONNREFUSED"],
  [/is a directory/i, "EISDIR"],
  [/not a directory/i, "ENOTDIR"],
  [/name too long/i, "ENAMETOOLONG"],
  [/not staged|bring.?online/i, "ENOTSTAGED"],
];

export function classifyFailure(code: string | null, message: string): FailureClass {
  let name = code && Object.hasOwn(ERRNO, code)
    ? code
    : MESSAGE_TABLE.find(([re]) => re.test(message))?.[1] ?? "EIO";
  if (code === "NOTSUBMITTED") name = "NOTSUBMITTED";
  return {
    exitCode: name === "NOTSUBMITTED" ? -1 : ERRNO[name]!,
    name,
    recoverable: !IRRECOVERABLE.has(name),
  };
}
