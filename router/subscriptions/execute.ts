/**
 * The executions a subscription makes — its authorization at subscribe time and each event's
 * query — through Apollo Server and the gateway, as a query over HTTP is made
 * (pipeline/execute.ts): same plugins (graphql-armor, cost, access log, error masking), the
 * caller's signed identity from the one context factory (graphql/context.ts
 * `routerContextOf`), admitted by the same execution limit (executionLimit.ts). Never through
 * the response cache, which lives in the HTTP pipeline's stages: an event is new by definition.
 */
import type { ApolloServer } from '@apollo/server';
import { randomUUID } from 'node:crypto';
import { GraphQLError, type ExecutionResult } from 'graphql';
import { ErrorCode } from '../../platform/contract/errors.js';
import type { ExecutionLimit } from '../executionLimit.js';
import { routerContextOf, type RouterContext } from '../graphql/context.js';
import type { Authenticated } from '../pipeline/requestState.js';

/** How often an execution shed by admission control is tried again, and how long apart. */
const ADMISSION_ATTEMPTS = 50;
const ADMISSION_RETRY_MS = 100;

/** An execution's result, and whether it may differ for another caller of the same scope. */
export interface Executed {
  readonly result: ExecutionResult;
  /** RequestCacheState.callerScoped: a fetch answered PRIVATE, or did not say. */
  readonly callerScoped: boolean;
}

export type Execute = (
  auth: Authenticated,
  query: string,
  variables: Record<string, unknown>,
  /** The subgraph whose entities are read fresh (RouterContext `freshReadsFrom`), if any. */
  freshReadsFrom: string | undefined,
  stillWanted?: () => boolean,
) => Promise<Executed | undefined>;

/**
 * A query through Apollo Server and the gateway with the caller's identity (as
 * pipeline/execute.ts runs one, without the HTTP request and the response cache), admitted
 * by the same execution limit. Undefined when `stillWanted` turned false while it waited.
 */
export function eventExecutor(deps: {
  readonly apollo: ApolloServer<RouterContext>;
  readonly executionLimit: ExecutionLimit;
}): Execute {
  return async function execute(
    auth: Authenticated,
    query: string,
    variables: Record<string, unknown>,
    freshReadsFrom: string | undefined,
    stillWanted: () => boolean = () => true,
  ): Promise<Executed | undefined> {
    const { apollo, executionLimit } = deps;
    const run = async (): Promise<Executed> => {
      const context = routerContextOf(auth, randomUUID(), undefined, {
        ...(freshReadsFrom ? { freshReadsFrom } : {}),
      });
      const response = await apollo.executeOperation(
        { query, variables },
        { contextValue: context },
      );
      if (response.body.kind !== 'single') throw new Error('incremental delivery in an event');
      return {
        result: response.body.singleResult as ExecutionResult,
        callerScoped: context.cache.callerScoped === true,
      };
    };
    for (let attempt = 0; attempt < ADMISSION_ATTEMPTS; attempt++) {
      const admitted = await executionLimit.run(run, stillWanted);
      if (admitted.admitted) return admitted.value;
      if (!stillWanted()) return undefined;
      await new Promise((resolve) => setTimeout(resolve, ADMISSION_RETRY_MS));
    }
    return {
      result: {
        errors: [
          refusal(
            'The router is overloaded; resume with your last event id',
            ErrorCode.SERVICE_OVERLOADED,
          ),
        ],
      },
      callerScoped: false,
    };
  };
}

function refusal(message: string, code: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}
