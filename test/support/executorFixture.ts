/**
 * A small federated graph that uses what the product's graph does not, for the query plan
 * executor's equivalence tests (test/unit/lean-executor.test.ts): interfaces and unions across
 * subgraphs, an entity interface with @interfaceObject, @requires, @provides, @shareable fields,
 * nested entity hops, lists of lists, enums, custom scalars, and subgraphs that answer nulls for
 * non-null fields or errors with paths. In-process (LocalGraphQLDataSource): no network.
 */
import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLError, GraphQLScalarType, parse, type GraphQLSchema } from 'graphql';

const LINK =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable", "@provides", "@external", "@requires", "@interfaceObject"])';

type Row = Record<string, unknown>;
const books: Row[] = [
  { id: 'b1', name: 'Dune', price: 12, tags: ['sf', 'classic'], authorId: 'a1', format: 'PAPER' },
  { id: 'b2', name: 'Emma', price: 8, tags: [], authorId: 'a2', format: 'EBOOK' },
  { id: 'b3', name: 'Ubik', price: 9, tags: null, authorId: 'a1', format: 'AUDIO' },
  { id: 'b4', name: 'Solaris', price: null, tags: ['sf'], authorId: 'a3', format: 'PAPER' },
];
const tools: Row[] = [
  { id: 't1', name: 'Hammer', price: 20, weight: 1.5 },
  { id: 't2', name: 'Saw', price: 25, weight: null },
  { id: 't3', name: 'Level', price: 15, weight: 0.4 },
];
const authors: Row[] = [
  { id: 'a1', name: 'Herbert', bio: 'Wrote Dune' },
  { id: 'a2', name: 'Austen', bio: null }, // bio is String! in people: a null to propagate
  { id: 'a3', name: 'Lem', bio: 'Wrote Solaris' },
];
const byId = (rows: Row[], id: unknown) => rows.find((row) => row['id'] === id) ?? null;
const item = (id: unknown) =>
  byId(books, id)
    ? { __typename: 'Book', ...byId(books, id) }
    : { __typename: 'Tool', ...byId(tools, id) };

const Json = new GraphQLScalarType({ name: 'Json' });

export const EXECUTOR_SUBGRAPHS: readonly { name: string; schema: GraphQLSchema; sdl: string }[] = [
  {
    name: 'catalog',
    sdl: `${LINK}
      scalar Json
      enum Format { PAPER EBOOK AUDIO }
      type Query {
        items: [Item!]!
        search(term: String): [SearchResult!]!
        book(id: ID!): Book
        shelves: [[Item]]
        meta: Json
      }
      interface Item @key(fields: "id") { id: ID! name: String! price: Int }
      type Book implements Item @key(fields: "id") {
        id: ID! name: String! price: Int tags: [String!] format: Format!
        author: Author @provides(fields: "name")
      }
      type Tool implements Item @key(fields: "id") { id: ID! name: String! price: Int weight: Float }
      type Author @key(fields: "id") { id: ID! name: String @external }
      union SearchResult = Book | Tool | Author`,
    schema: undefined as unknown as GraphQLSchema,
  },
  {
    name: 'people',
    sdl: `${LINK}
      type Author @key(fields: "id") {
        id: ID! name: String @shareable bio: String! rating: Int books: [Book!]!
      }
      type Book @key(fields: "id") { id: ID! reviewsCount: Int! }`,
    schema: undefined as unknown as GraphQLSchema,
  },
  {
    name: 'logistics',
    sdl: `${LINK}
      type Tool @key(fields: "id") {
        id: ID! weight: Float @external shippingCost: Float @requires(fields: "weight")
      }
      type Book @key(fields: "id") {
        id: ID! price: Int @external discounted: Int! @requires(fields: "price")
      }`,
    schema: undefined as unknown as GraphQLSchema,
  },
  {
    name: 'ranking',
    sdl: `${LINK}
      type Item @key(fields: "id") @interfaceObject { id: ID! popularity: Int! }`,
    schema: undefined as unknown as GraphQLSchema,
  },
];

const resolvers: Record<string, Record<string, Record<string, unknown>>> = {
  catalog: {
    Json: Json as unknown as Record<string, unknown>,
    Query: {
      items: () => [...books.slice(0, 3), ...tools].map((row) => item(row['id'])),
      search: (_: unknown, { term }: { term?: string }) =>
        term === 'none'
          ? []
          : [item('b1'), item('t2'), { __typename: 'Author', id: 'a3' }, item('b4')],
      book: (_: unknown, { id }: { id: string }) => byId(books, id),
      shelves: () => [[item('b1'), null, item('t1')], null, [], [item('b2')]],
      meta: () => ({ version: 3, flags: ['a', null] }),
    },
    Item: { __resolveReference: (ref: Row) => item(ref['id']) },
    Book: {
      __resolveReference: (ref: Row) => byId(books, ref['id']),
      author: (book: Row) => ({
        id: book['authorId'],
        name: byId(authors, book['authorId'])?.['name'],
      }),
    },
    Tool: { __resolveReference: (ref: Row) => byId(tools, ref['id']) },
  },
  people: {
    Author: {
      __resolveReference: (ref: Row) => byId(authors, ref['id']),
      rating: (author: Row) => {
        if (author['id'] === 'a3')
          throw new GraphQLError('rating unavailable', { extensions: { code: 'NOT_FOUND' } });
        return author['id'] === 'a1' ? 5 : 3;
      },
      books: (author: Row) =>
        books.filter((book) => book['authorId'] === author['id']).map((b) => ({ id: b['id'] })),
    },
    Book: {
      __resolveReference: (ref: Row) => ({ id: ref['id'] }),
      reviewsCount: (book: Row) => (book['id'] === 'b3' ? null : String(book['id']).length * 7),
    },
  },
  logistics: {
    Tool: {
      __resolveReference: (ref: Row) => ref,
      shippingCost: (tool: Row) => (tool['weight'] == null ? null : Number(tool['weight']) * 2),
    },
    Book: {
      __resolveReference: (ref: Row) => ref,
      discounted: (book: Row) => (book['price'] == null ? null : Number(book['price']) - 1),
    },
  },
  ranking: {
    Item: {
      __resolveReference: (ref: Row) => ({
        id: ref['id'],
        popularity: String(ref['id']).charCodeAt(1),
      }),
    },
  },
};

for (const subgraph of EXECUTOR_SUBGRAPHS as { name: string; schema: GraphQLSchema; sdl: string }[])
  subgraph.schema = buildSubgraphSchema({
    typeDefs: parse(subgraph.sdl),
    resolvers: resolvers[subgraph.name] as never,
  });

export function executorSupergraphSdl(): string {
  const result = composeServices(
    EXECUTOR_SUBGRAPHS.map(({ name, sdl }) => ({
      name,
      typeDefs: parse(sdl),
      url: `http://${name}.invalid/graphql`,
    })),
  );
  if (result.errors) throw new Error(result.errors.map((error) => error.message).join('\n'));
  return result.supergraphSdl;
}
