/** What a resolver's field asks of its value: for answering from data already at hand. */
import { Kind, type GraphQLResolveInfo } from 'graphql';

/**
 * Whether every occurrence of the field selects only plain fields named in `fields` (no
 * fragments, no directives, whatever the aliases). Anything else answers false, so the caller
 * falls back to its full read: a wrong "yes" would return a partial object.
 */
export function asksOnly(info: GraphQLResolveInfo, fields: ReadonlySet<string>): boolean {
  return info.fieldNodes.every((node) =>
    (node.selectionSet?.selections ?? []).every(
      (selection) =>
        selection.kind === Kind.FIELD &&
        !selection.directives?.length &&
        fields.has(selection.name.value),
    ),
  );
}
