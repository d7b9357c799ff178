# The grammar of the Vigil rule language (nearley). One declaration is parsed at a time:
# the parser splits a file at top-level declaration keywords first, so that one broken
# declaration never hides the others. Postprocessors only build nodes (build.ts).
@preprocessor typescript
@{%
import * as b from "./build.js";
import { grammarLexer as lexer } from "./token-stream.js";
%}
@lexer lexer

Decl -> Rule {% id %} | Macro {% id %} | List {% id %} | Param {% id %} | Settings {% id %} | Model {% id %}

# ---- declarations ----
Settings -> %kw_settings %lbrace Setting:* %rbrace {% (d) => b.settings(d[0], d[2], d[3]) %}
Setting -> Name SettingValue {% (d) => b.setting(d[0], d[1]) %}
SettingValue -> Scalar {% id %} | Duration {% id %}
Param -> %kw_param DeclName %eq SettingValue {% (d) => b.paramDecl(d[0], d[1], d[3]) %}
List -> %kw_list DeclName %eq ListLit {% (d) => b.listDecl(d[0], d[1], d[3]) %}
      | %kw_list DeclName %eq %kw_file %lparen %string %rparen {% (d) => b.listFileDecl(d[0], d[1], d[5], d[6]) %}
Macro -> %kw_macro DeclName %eq Expr {% (d) => b.macroDecl(d[0], d[1], d[3]) %}
Rule -> %kw_rule DeclName %lbrace Clause:* %rbrace {% (d) => b.ruleDecl(d[0], d[1], d[3], d[4]) %}
Model -> %kw_model DeclName %lbrace ModelClause:* %rbrace {% (d) => b.modelDecl(d[0], d[1], d[3], d[4]) %}
ModelClause -> %kw_features Expr (%comma Expr):* {% (d) => b.modelFeatures(d[0], b.exprList(d[1], d[2])) %}
             | %kw_by Field (%comma Field):* {% (d) => b.modelBy(d[0], b.by(d[1], d[2])) %}
             | %kw_train Duration {% (d) => b.modelDuration("train", d[0], d[1]) %}
             | %kw_retrain Duration {% (d) => b.modelDuration("retrain", d[0], d[1]) %}

Name -> %ident {% (d) => b.name(d[0]) %}
# Declared names may be soft keywords (`param max = 5`).
DeclName -> %ident {% (d) => b.name(d[0]) %} | SoftKeyword {% (d) => b.name(d[0]) %}

# ---- rule clauses ----
Clause -> Meta {% id %} | Tags {% id %} | When {% id %} | Threshold {% id %} | Suppress {% id %} | Then {% id %}
        | Sequence {% id %} | Absent {% id %} | FirstSeen {% id %} | Anomaly {% id %}

Sequence -> %kw_sequence By:? %kw_within Duration %lbrace Step:+ %rbrace Until:?
              {% (d) => b.sequence(d[0], d[1], d[3], d[5], d[6], d[7]) %}
Step -> Name %colon Expr Repeat:? By:? {% (d) => b.step(d[0], d[2], d[3], d[4]) %}
Repeat -> %kw_repeat CmpOp NumOrParam {% (d) => b.repeat(d[1], d[2]) %}
Until -> %kw_until Expr {% (d) => d[1] %}
Absent -> %kw_absent %kw_for Duration By:? {% (d) => b.absent(d[0], d[2], d[3]) %}
FirstSeen -> %kw_first %kw_seen Field (%comma Field):* By:? Learning:?
              {% (d) => b.firstSeen(d[0], b.by(d[2], d[3]), d[4], d[5]) %}
Learning -> %kw_learning Duration {% (d) => d[1] %}
Anomaly -> %kw_anomaly Name AnomalyFeatures:? CmpOp NumOrParam {% (d) => b.anomaly(d[0], d[1], d[2], d[3], d[4]) %}
AnomalyFeatures -> %lparen CallArgs %rparen {% (d) => d[1] %}

Meta -> MetaKey MetaValue {% (d) => b.meta(d[0], d[1]) %}
MetaKey -> %kw_title {% id %} | %kw_description {% id %} | %kw_author {% id %} | %kw_version {% id %}
         | %kw_severity {% id %} | %kw_risk {% id %} | %kw_enabled {% id %}
MetaValue -> Scalar {% id %} | %ident {% (d) => b.bareName(d[0]) %} | %param {% (d) => b.param(d[0]) %}

Tags -> %kw_tags Tag (%comma Tag):* {% (d) => b.tags(d[0], d[1], d[2]) %}
Tag -> TagSeg (%dot TagSeg):* {% (d) => b.tag(d[0], d[1]) %}
TagSeg -> %ident {% id %} | %number {% id %} | Keyword {% id %}

When -> %kw_when Expr {% (d) => b.when("when", d[0], d[1]) %}
      | %kw_except Expr {% (d) => b.when("except", d[0], d[1]) %}

Threshold -> %kw_count CmpOp NumOrParam %kw_within Duration By:?
               {% (d) => b.threshold(d[0], undefined, d[1], d[2], d[4], d[5], undefined) %}
           | AggKw %lparen Field %rparen CmpOp NumOrParam %kw_within Duration By:?
               {% (d) => b.threshold(d[0], d[2], d[4], d[5], d[7], d[8], d[3]) %}
AggKw -> %kw_distinct {% id %} | %kw_sum {% id %} | %kw_avg {% id %} | %kw_min {% id %} | %kw_max {% id %}
By -> %kw_by Field (%comma Field):* {% (d) => b.by(d[1], d[2]) %}
NumOrParam -> %number {% (d) => b.number(d[0]) %} | %param {% (d) => b.param(d[0]) %}

Suppress -> %kw_suppress Duration By:? {% (d) => b.suppress(d[0], d[1], d[2]) %}

Then -> %kw_then Action (%comma Action):* {% (d) => b.thenClause(d[0], d[1], d[2]) %}
Action -> Name %lparen Args:? %rparen ActionMode:? {% (d) => b.action(d[0], d[2], d[3], d[4]) %}
Args -> Arg (%comma Arg):* {% (d) => b.args(d[0], d[1]) %}
Arg -> Expr {% (d) => b.arg(undefined, d[0]) %}
     | ArgName %colon Expr {% (d) => b.arg(d[0], d[2]) %}
ArgName -> %ident {% (d) => b.name(d[0]) %} | Keyword {% (d) => b.name(d[0]) %}
ActionMode -> %kw_dry_run {% id %} | %kw_approve {% id %}

# ---- expressions: or < and < not < predicate ----
Expr -> Or {% id %}
Or -> Or %kw_or And {% (d) => b.logical("or", d[0], d[2]) %} | And {% id %}
And -> And %kw_and Not {% (d) => b.logical("and", d[0], d[2]) %} | Not {% id %}
Not -> %kw_not Not {% (d) => b.not(d[0], d[1]) %} | Pred {% id %}

Pred -> Operand CmpOp Operand {% (d) => b.compare(d[0], d[1], d[2]) %}
      | Operand %kw_in Ci InTarget {% (d) => b.inExpr(d[0], false, d[2], d[3]) %}
      | Operand %kw_not %kw_in Ci InTarget {% (d) => b.inExpr(d[0], true, d[3], d[4]) %}
      | Operand StrOp Ci Operand {% (d) => b.strmatch(d[0], d[1], d[2], d[3]) %}
      | Operand %kw_matches Regex {% (d) => b.strmatch(d[0], d[1], false, d[2]) %}
      | Operand %kw_cidr Operand {% (d) => b.cidr(d[0], d[2]) %}
      | %kw_exists Field {% (d) => b.exists(d[0], d[1]) %}
      | Operand {% id %}

Ci -> null {% () => false %} | %tilde {% () => true %}
CmpOp -> %eqeq {% id %} | %ne {% id %} | %eqci {% id %} | %neci {% id %}
       | %lt {% id %} | %le {% id %} | %gt {% id %} | %ge {% id %}
StrOp -> %kw_contains {% id %} | %kw_startswith {% id %} | %kw_endswith {% id %} | %kw_like {% id %}
InTarget -> ListLit {% id %} | Field {% id %}

Operand -> Scalar {% id %}
         | Duration {% id %}
         | Field {% id %}
         | %param {% (d) => b.param(d[0]) %}
         | Call {% id %}
         | %lparen Expr %rparen {% (d) => d[1] %}

Call -> Name %lparen CallArgs:? %rparen {% (d) => b.call(d[0], d[2], d[3]) %}
CallArgs -> Expr (%comma Expr):* {% (d) => b.exprList(d[0], d[1]) %}

Field -> FieldStart (%dot FieldSeg):* {% (d) => b.field(d[0], d[1]) %}
FieldStart -> %ident {% id %} | SoftKeyword {% id %}
FieldSeg -> %ident {% id %} | Keyword {% id %} | %string {% id %}

ListLit -> %lbracket %rbracket {% (d) => b.list(d[0], [], d[1]) %}
         | %lbracket ListItem (%comma ListItem):* %comma:? %rbracket {% (d) => b.list(d[0], b.exprList(d[1], d[2]), d[4]) %}
ListItem -> Scalar {% id %} | Duration {% id %} | %param {% (d) => b.param(d[0]) %}

Scalar -> %string {% (d) => b.string(d[0]) %}
        | %number {% (d) => b.number(d[0]) %}
        | %minus %number {% (d) => b.negative(d[0], d[1]) %}
        | %kw_true {% (d) => b.literal(d[0], true) %}
        | %kw_false {% (d) => b.literal(d[0], false) %}
        | %kw_null {% (d) => b.literal(d[0], null) %}
Duration -> %duration {% (d) => b.duration(d[0]) %}
Regex -> %regex {% (d) => b.regex(d[0]) %}

Keyword -> SoftKeyword {% id %} | HardKeyword {% id %}
SoftKeyword -> %kw_rule {% id %} | %kw_macro {% id %} | %kw_list {% id %} | %kw_param {% id %}
  | %kw_settings {% id %} | %kw_file {% id %} | %kw_title {% id %} | %kw_description {% id %}
  | %kw_severity {% id %} | %kw_risk {% id %} | %kw_tags {% id %} | %kw_enabled {% id %}
  | %kw_author {% id %} | %kw_version {% id %} | %kw_when {% id %} | %kw_except {% id %}
  | %kw_count {% id %} | %kw_distinct {% id %} | %kw_sum {% id %} | %kw_avg {% id %}
  | %kw_min {% id %} | %kw_max {% id %} | %kw_within {% id %} | %kw_by {% id %}
  | %kw_suppress {% id %} | %kw_then {% id %} | %kw_dry_run {% id %} | %kw_approve {% id %}
  | %kw_model {% id %} | %kw_features {% id %} | %kw_train {% id %} | %kw_retrain {% id %}
  | %kw_sequence {% id %} | %kw_until {% id %} | %kw_repeat {% id %} | %kw_absent {% id %}
  | %kw_for {% id %} | %kw_first {% id %} | %kw_seen {% id %} | %kw_learning {% id %} | %kw_anomaly {% id %}
HardKeyword -> %kw_and {% id %} | %kw_or {% id %} | %kw_not {% id %} | %kw_in {% id %}
  | %kw_contains {% id %} | %kw_startswith {% id %} | %kw_endswith {% id %} | %kw_like {% id %} | %kw_matches {% id %}
  | %kw_cidr {% id %} | %kw_exists {% id %} | %kw_true {% id %} | %kw_false {% id %} | %kw_null {% id %}
