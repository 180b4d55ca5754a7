// The error for a reference Docker would refuse.
import { JoeyError } from '../errdefs/index.ts';

/** A malformed image reference (kind 'invalid'). `message` names the input
 * and the reason; `dockerMessage` is what docker prints for the same input,
 * word for word, for the CLI to show. */
export class InvalidReferenceError extends JoeyError {
  /** The reference as given. */
  readonly input: string;
  /** Docker's text: "invalid reference format", "invalid reference format:
   * repository name (library/Foo) must be lowercase", ... */
  readonly dockerMessage: string;

  constructor(input: string, message: string, dockerMessage: string) {
    super('invalid', message);
    this.name = 'InvalidReferenceError';
    this.input = input;
    this.dockerMessage = dockerMessage;
  }
}
