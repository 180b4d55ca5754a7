// Waiting for exits: for stop's timeout and for POST /containers/{id}/wait.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerContext } from './context.ts';
import { findContainer } from './lookup.ts';
import type { WaitResult } from './types.ts';

export interface ExitWait {
  /** Resolves true when the container exited within `ms`. */
  within(ms: number): Promise<boolean>;
}

/** Registers for the next exit now, so that an exit between the call and
 * `within` is not missed. A slow poll of the exit file backs up the watch. */
export function waitForExit(cx: ContainerContext, id: string): ExitWait {
  let exited = false;
  const done = new Promise<void>((resolve) => {
    cx.onNextExit(id, () => {
      exited = true;
      resolve();
    });
  });
  return {
    async within(ms: number) {
      const exitFile = join(cx.paths(id).exitDir, id);
      const deadline = Date.now() + ms;
      while (!exited && Date.now() < deadline) {
        const step = Math.min(250, deadline - Date.now());
        await Promise.race([done, new Promise((r) => setTimeout(r, step))]);
        if (!exited && existsSync(exitFile)) cx.exitSeen?.(id);
      }
      return exited;
    },
  };
}

export async function waitContainer(
  cx: ContainerContext,
  idOrName: string,
  opts: { condition?: 'not-running' | 'next-exit' | 'removed'; signal?: AbortSignal } = {},
): Promise<WaitResult> {
  const c = findContainer(cx, idOrName);
  const condition = opts.condition ?? 'not-running';
  if (condition === 'not-running' && !c.state.Running && !c.state.Restarting) return { StatusCode: c.state.ExitCode, Error: null };
  return new Promise<WaitResult>((resolve, reject) => {
    let lastCode = c.state.ExitCode;
    const cleanups: Array<() => void> = [];
    const finish = (r: WaitResult) => {
      for (const f of cleanups) f();
      resolve(r);
    };
    if (condition === 'removed') {
      cleanups.push(cx.onRemoved(c.id, () => finish({ StatusCode: lastCode, Error: null })));
      const track = () => {
        cleanups.push(
          cx.onNextExit(c.id, (code) => {
            lastCode = code;
            track();
          }),
        );
      };
      track();
    } else {
      cleanups.push(cx.onNextExit(c.id, (code) => finish({ StatusCode: code, Error: null })));
    }
    if (opts.signal) {
      const onAbort = () => {
        for (const f of cleanups) f();
        reject(opts.signal!.reason);
      };
      opts.signal.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => opts.signal!.removeEventListener('abort', onAbort));
    }
  });
}
