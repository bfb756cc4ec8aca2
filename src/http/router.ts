import { AiIntegrationError } from '../errors.js';
import type { RouteDefinition } from './protocol.js';

/** The routes of one path template, by method. */
export interface RouteMatch {
  /** The template: the metrics' `route` label. */
  template: string;
  methods: ReadonlyMap<string, RouteDefinition>;
  params: Record<string, string>;
  /** Whether any method of this path is a probe (reachable past MAX_CONNECTIONS and while draining). */
  probe: boolean;
}

interface PatternRoute {
  template: string;
  pattern: RegExp;
  names: string[];
  methods: Map<string, RouteDefinition>;
  probe: boolean;
}

const noParams: Record<string, string> = Object.freeze({}) as Record<string, string>;

/**
 * Matches a path to the routes a protocol declared. Literal paths are one Map lookup (the hot
 * routes: /predict, /health); templates (`/v2/models/{name}/infer`, `/v1/models/{name}:predict`)
 * are tried most specific (most literal characters) first. A dozen routes do not need a radix tree, and no router on npm
 * takes OpenAPI's `{name}:suffix` form as it is.
 */
export class Router {
  private readonly literal = new Map<string, RouteMatch>();
  private readonly patterns: PatternRoute[] = [];

  constructor(routes: readonly RouteDefinition[]) {
    for (const route of routes) this.add(route);
  }

  match(path: string): RouteMatch | undefined {
    const literal = this.literal.get(path);
    if (literal) return literal;
    for (const route of this.patterns) {
      const found = route.pattern.exec(path);
      if (!found) continue;
      const params: Record<string, string> = {};
      for (let index = 0; index < route.names.length; index++) params[route.names[index]!] = decodeSegment(found[index + 1]!);
      return { template: route.template, methods: route.methods, params, probe: route.probe };
    }
    return undefined;
  }

  private add(route: RouteDefinition): void {
    if (!route.path.startsWith('/')) throw new Error(`route path ${JSON.stringify(route.path)} must start with /`);
    if (!route.path.includes('{')) {
      const existing = this.literal.get(route.path);
      const methods = (existing?.methods as Map<string, RouteDefinition> | undefined) ?? new Map<string, RouteDefinition>();
      checkNew(methods, route);
      methods.set(route.method, route);
      this.literal.set(route.path, { template: route.path, methods, params: noParams, probe: (existing?.probe ?? false) || route.probe === true });
      return;
    }
    let existing = this.patterns.find((candidate) => candidate.template === route.path);
    if (!existing) {
      const names: string[] = [];
      // A parameter takes one segment, or the part of it before a literal suffix (`{name}:predict`).
      const source = route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_whole, name: string) => {
        names.push(name);
        return '([^/]+?)';
      });
      existing = { template: route.path, pattern: new RegExp(`^${source}$`), names, methods: new Map(), probe: false };
      this.patterns.push(existing);
      // The most specific template first: `/v1/models/{name}:predict` before `/v1/models/{name}`,
      // whose parameter would otherwise take `resnet:predict` whole. (Stable: ties keep their order.)
      this.patterns.sort((a, b) => literalLength(b.template) - literalLength(a.template));
    }
    checkNew(existing.methods, route);
    existing.methods.set(route.method, route);
    existing.probe ||= route.probe === true;
  }
}

const literalLength = (template: string) => template.replace(/\{\w+\}/g, '').length;

function checkNew(methods: Map<string, RouteDefinition>, route: RouteDefinition): void {
  if (methods.has(route.method)) throw new Error(`${route.method} ${route.path} is declared twice`);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new AiIntegrationError('AI_ERR_MALFORMED_INPUT', `the path segment ${JSON.stringify(segment)} is not valid percent-encoding`);
  }
}
