// Starts the real agentd binary for interop tests: `agentd serve` on a free loopback port with a
// fresh data directory, waiting (bounded) for its "listening on HOST:PORT" line on stderr.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class Agentd {
  constructor(proc, dataDir) {
    this.proc = proc;
    this.dataDir = dataDir;
    this.stderr = '';
    this.exit = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk) => {
      this.stderr += chunk;
      for (const waiter of [...this.waiters]) waiter();
    });
    this.waiters = new Set();
  }

  static async serve(binary, args = [], timeoutMs = 30000) {
    const dataDir = mkdtempSync(join(tmpdir(), 'agentd-interop-'));
    const proc = spawn(binary, ['serve', '--listen', '127.0.0.1:0', '--data', dataDir, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const agentd = new Agentd(proc, dataDir);
    const line = await agentd.waitForStderr(/listening on [^:\s]+:(\d+)/, timeoutMs);
    agentd.port = Number(line[1]);
    agentd.url = `http://127.0.0.1:${agentd.port}/mcp`;
    return agentd;
  }

  /** Resolves with the match once stderr matches `pattern`; rejects after `timeoutMs`. */
  waitForStderr(pattern, timeoutMs = 10000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.stderr.match(pattern);
        if (m) {
          this.waiters.delete(check);
          clearTimeout(timer);
          resolve(m);
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${pattern} on agentd's stderr:\n${this.stderr}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
      this.proc.once('exit', () => {
        if (this.waiters.has(check)) {
          this.waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`agentd exited before ${pattern}:\n${this.stderr}`));
        }
      });
    });
  }

  /** SIGTERM, then the exit status (bounded). */
  async stop(timeoutMs = 20000) {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    const result = await this.exit;
    clearTimeout(timer);
    rmSync(this.dataDir, { recursive: true, force: true });
    return result;
  }
}

/** A tiny check runner: named checks, a summary, exit status 1 when any failed. */
export class Checks {
  constructor(name) {
    this.name = name;
    this.failed = 0;
  }
  async run(label, fn) {
    try {
      await fn();
      console.log(`ok   ${this.name}: ${label}`);
    } catch (e) {
      this.failed++;
      console.log(`FAIL ${this.name}: ${label}: ${e && e.stack ? e.stack : e}`);
    }
  }
  finish() {
    console.log(this.failed === 0 ? `${this.name}: all checks passed` : `${this.name}: ${this.failed} failed`);
    process.exitCode = this.failed === 0 ? 0 : 1;
  }
}
