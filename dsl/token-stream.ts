import type { Lexer, LexerState } from "nearley";
import type { Token } from "./lexer.js";

/**
 * Feeds nearley a declaration's tokens that were lexed (and stripped of trivia) before:
 * the parser works on one declaration at a time, so the tokens come from a slice.
 */
export class TokenStream implements Lexer {
  private i = 0;
  constructor(private readonly tokens: readonly Token[]) {}

  reset(_chunk: string, _state?: LexerState): void {
    this.i = 0;
  }
  next(): Token | undefined {
    return this.tokens[this.i++];
  }
  save(): LexerState {
    return {};
  }
  formatError(token: Token, message = "unexpected token"): string {
    return `${message} at '${token.text}'`;
  }
  has(_tokenType: string): boolean {
    return true;
  }
}

/** The lexer named in the compiled grammar; replaced per parse by a TokenStream. */
export const grammarLexer = new TokenStream([]);
