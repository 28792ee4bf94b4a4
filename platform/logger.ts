/** Structured JSON logs (pino); one root logger per process, children per component. */
import { pino, type Logger } from 'pino';
import type { ToolConfig } from './config/load.js';

export type { Logger };

export function createLogger(config: Pick<ToolConfig, 'logLevel'>, name: string): Logger {
  return pino({ name, level: config.logLevel, base: { service: name } });
}
