/**
 * A subscription document, vetted and rewritten into the query that resolves one event.
 *
 * `subscription S($f: ID!) { robotChanged(fleetId: $f) { robot { status operator { … } } } }`
 * becomes
 * `query S($f: ID!, $__eventId: ID!) { robotChanged: robotEvent(fleetId: $f, eventId: $__eventId) { … } }`:
 * the same selection, alias and variables, the root field's query twin
 * (platform/events/contract.ts `SUBSCRIPTIONS`), the subscription-only `after` argument
 * dropped (the router handles the resume point) and with it any variable only it used. The
 * result's data key is the subscription field's, so the client sees a subscription result.
 *
 * @remarks
 * Vetted as a query is, before anything is called: parsed with MAX_QUERY_TOKENS, validated
 * against the API schema with graphql-armor's depth, alias and directive rules
 * (graphql/apolloServer.ts `armorOf`), costed with its variables (graphql/operationCost.ts);
 * each per-event execution then goes through Apollo Server's same checks again.
 */
import { createHash } from 'node:crypto';
import {
  getArgumentValues,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  Kind,
  parse,
  print,
  specifiedRules,
  validate,
  visit,
  type DocumentNode,
  type FieldNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValidationRule,
  type VariableNode,
} from 'graphql';
import { ErrorCode } from '../../platform/contract/errors.js';
import {
  EVENT_ID_ARGUMENT,
  STREAM_ID,
  SUBSCRIPTIONS,
  type SubscriptionField,
} from '../../platform/events/contract.js';
import { operationCost, tooCostly } from '../graphql/operationCost.js';

/** The variable the rewritten query takes the event's id in. */
export const EVENT_ID_VARIABLE = '__eventId';
/** The subscription argument naming the last event a client has (resume point). */
const AFTER_ARGUMENT = 'after';

export interface SubscriptionRequest {
  readonly query: string;
  readonly variables?: Record<string, unknown> | null | undefined;
  readonly operationName?: string | null | undefined;
  readonly extensions?: Record<string, unknown> | null | undefined;
}

export interface PreparedSubscription {
  readonly field: SubscriptionField;
  /** The key of the field in results: its alias, or its name. */
  readonly responseKey: string;
  /** The fleet's or the robot's id, as the subscription names it (SUBSCRIPTIONS[field].scope). */
  readonly scopeId: string;
  /** The `after` argument, if given. */
  readonly after: string | undefined;
  /** The per-event query, printed, and the variables it uses (without the event id). */
  readonly query: string;
  readonly variables: Readonly<Record<string, unknown>>;
  /** The client asked for bursts of one entity to collapse to the newest (`extensions.coalesce`). */
  readonly coalesce: boolean;
  /** Identifies the operation as executed: same key, same result for callers of one scope. */
  readonly operationKey: string;
}

export interface OperationVetting {
  readonly schema: GraphQLSchema;
  readonly rules: readonly ValidationRule[];
  readonly maxTokens: number;
  readonly maxCost: number;
}

const refusal = (message: string, code: string) =>
  new GraphQLError(message, { extensions: { code } });

/** Vets and rewrites a subscription request; a list of errors when it is refused. */
export function prepareSubscription(
  request: SubscriptionRequest,
  vetting: OperationVetting,
): PreparedSubscription | GraphQLError[] {
  const { schema } = vetting;
  const document = validDocument(request.query, vetting);
  if (Array.isArray(document)) return document;
  const operation = getOperationAST(document, request.operationName ?? undefined);
  if (!operation)
    return [refusal('The document must name the operation to run', ErrorCode.BAD_USER_INPUT)];
  if (operation.operation !== 'subscription')
    return [
      refusal(
        `Only subscriptions are served here; send ${operation.operation === 'query' ? 'queries' : 'mutations'} to the GraphQL endpoint`,
        ErrorCode.BAD_USER_INPUT,
      ),
    ];
  const root = operation.selectionSet.selections;
  const fieldNode = root.length === 1 && root[0]!.kind === Kind.FIELD ? root[0] : undefined;
  if (!fieldNode)
    return [
      refusal('A subscription selects exactly one field, not a fragment', ErrorCode.BAD_USER_INPUT),
    ];
  const field = fieldNode.name.value as SubscriptionField;
  const served = SUBSCRIPTIONS[field];
  const queryField = served && schema.getQueryType()?.getFields()[served.queryField];
  const fieldDefinition = schema.getSubscriptionType()?.getFields()[field];
  if (!served || !queryField || !fieldDefinition)
    return [refusal(`Subscription field "${field}" is not served`, ErrorCode.BAD_USER_INPUT)];

  const coerced = getVariableValues(
    schema,
    operation.variableDefinitions ?? [],
    request.variables ?? {},
  );
  if (coerced.errors)
    return coerced.errors.map((error) => refusal(error.message, ErrorCode.BAD_USER_INPUT));
  const args = getArgumentValues(fieldDefinition, fieldNode, coerced.coerced);
  const scopeId = String(args[served.argument]);
  const after = args[AFTER_ARGUMENT] == null ? undefined : String(args[AFTER_ARGUMENT]);
  if (after !== undefined && !STREAM_ID.test(after))
    return [
      refusal(
        'Argument "after" must be an event id as delivered (<ms>-<seq>)',
        ErrorCode.BAD_USER_INPUT,
      ),
    ];
  const cost = operationCost({
    schema,
    document,
    variables: request.variables ?? {},
    operationName: operation.name?.value,
  });
  if (cost !== undefined && cost > vetting.maxCost) return [tooCostly(cost, vetting.maxCost)];

  const rewritten = rewrite(document, operation, fieldNode, served.queryField);
  const used = usedVariables(rewritten);
  const variables: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(request.variables ?? {}))
    if (used.has(name)) variables[name] = value;
  const query = print(rewritten);
  const coalesce = request.extensions?.['coalesce'] === true;
  return {
    field,
    responseKey: fieldNode.alias?.value ?? field,
    scopeId,
    after,
    query,
    variables,
    coalesce,
    operationKey: createHash('sha256')
      .update(`${query}\n${stableJson(variables)}\n${coalesce}`)
      .digest('hex'),
  };
}

/** The parsed document, valid against the API schema and within the limits; else the errors. */
function validDocument(query: string, vetting: OperationVetting): DocumentNode | GraphQLError[] {
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens: vetting.maxTokens });
  } catch (error) {
    return [refusal((error as Error).message, 'GRAPHQL_PARSE_FAILED')];
  }
  const invalid = validate(vetting.schema, document, [...specifiedRules, ...vetting.rules]);
  if (invalid.length === 0) return document;
  return invalid.map((error) => refusal(error.message, 'GRAPHQL_VALIDATION_FAILED'));
}

/** The query twin of the operation, with only the definitions it uses. */
function rewrite(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  fieldNode: FieldNode,
  queryField: string,
): DocumentNode {
  const eventId: VariableNode = {
    kind: Kind.VARIABLE,
    name: { kind: Kind.NAME, value: EVENT_ID_VARIABLE },
  };
  const root: FieldNode = {
    ...fieldNode,
    alias: fieldNode.alias ?? { kind: Kind.NAME, value: fieldNode.name.value },
    name: { kind: Kind.NAME, value: queryField },
    arguments: [
      ...(fieldNode.arguments ?? []).filter((argument) => argument.name.value !== AFTER_ARGUMENT),
      { kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: EVENT_ID_ARGUMENT }, value: eventId },
    ],
  };
  const query: OperationDefinitionNode = {
    ...operation,
    operation: 'query' as OperationDefinitionNode['operation'],
    selectionSet: { ...operation.selectionSet, selections: [root] },
    variableDefinitions: [
      ...(operation.variableDefinitions ?? []),
      {
        kind: Kind.VARIABLE_DEFINITION,
        variable: eventId,
        type: {
          kind: Kind.NON_NULL_TYPE,
          type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: 'ID' } },
        },
      },
    ],
  };
  const fragments = document.definitions.filter(
    (definition) => definition.kind === Kind.FRAGMENT_DEFINITION,
  );
  const draft: DocumentNode = { kind: Kind.DOCUMENT, definitions: [query, ...fragments] };
  // Variables only `after` used would fail validation (NoUnusedVariables): drop them.
  const used = usedVariables(draft, true);
  return {
    kind: Kind.DOCUMENT,
    definitions: [
      {
        ...query,
        variableDefinitions: query.variableDefinitions!.filter((definition) =>
          used.has(definition.variable.name.value),
        ),
      },
      ...fragments,
    ],
  };
}

/** The variables a document uses (outside variable definitions, unless `skipDefinitions`). */
function usedVariables(document: DocumentNode, skipDefinitions = true): Set<string> {
  const used = new Set<string>();
  visit(document, {
    VariableDefinition: () => (skipDefinitions ? false : undefined),
    Variable: (node) => {
      used.add(node.name.value);
    },
  });
  return used;
}

/** JSON with object keys sorted: equal values, equal text. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(
          Object.entries(item as Record<string, unknown>).sort(([a], [b]) =>
            a < b ? -1 : a > b ? 1 : 0,
          ),
        )
      : item,
  );
}
