// The one place where an error kind becomes a gRPC status code for the CRI.
import { kindOf, messageOf, type ErrorKind } from '../../errdefs/index.ts';

/** gRPC's status codes (the protocol's numbers), so that the table below
 * needs no gRPC library loaded. */
export const GRPC = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  FAILED_PRECONDITION: 9,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** Error kind → gRPC code, as containerd's CRI maps its error classes.
 * - conflict (in use, wrong state) → FAILED_PRECONDITION: the call may work
 *   once the state changes; a name already taken is already-exists.
 * - internal → UNKNOWN: kinds below the API fall back to internal for any
 *   foreign error, which containerd reports as Unknown. */
export const GRPC_CODE_BY_KIND: Readonly<Record<ErrorKind, number>> = {
  invalid: GRPC.INVALID_ARGUMENT,
  'not-found': GRPC.NOT_FOUND,
  'already-exists': GRPC.ALREADY_EXISTS,
  conflict: GRPC.FAILED_PRECONDITION,
  unauthorized: GRPC.UNAUTHENTICATED,
  forbidden: GRPC.PERMISSION_DENIED,
  'failed-precondition': GRPC.FAILED_PRECONDITION,
  unavailable: GRPC.UNAVAILABLE,
  'not-implemented': GRPC.UNIMPLEMENTED,
  canceled: GRPC.CANCELLED,
  'deadline-exceeded': GRPC.DEADLINE_EXCEEDED,
  'data-loss': GRPC.DATA_LOSS,
  internal: GRPC.UNKNOWN,
};

/** What a handler's callback gets for a failed call. */
export interface GrpcError {
  code: number;
  details: string;
  message: string;
}

export function grpcErrorOf(err: unknown): GrpcError {
  const details = messageOf(err);
  return { code: GRPC_CODE_BY_KIND[kindOf(err)] ?? GRPC.UNKNOWN, details, message: details };
}
