package io.archway.dataplane.route;

import io.archway.model.Vars;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The terms of a {@code vars} expression on the request body ({@code post_arg.*}), compiled once,
 * and the expression as it stands before the body is read. A body value is absent, a scalar's text,
 * or a list ({@link Variables#bodyValue}); the operators treat them as lua-resty-expr treats a nil,
 * a string and a table: {@code has} looks in a list (a scalar has nothing), every other operator
 * compares a scalar (a list is equal to nothing, so {@code ~=} holds), and a number in the
 * condition compares numerically ({@code ["post_arg.n", "==", 1]} holds for {@code 1.0}).
 */
final class BodyTerms {

  static final int NO = 0;
  static final int YES = 1;
  static final int UNKNOWN = 2;

  private BodyTerms() {}

  /** A route's vars before its body is read: every body term is {@link #UNKNOWN}. */
  @FunctionalInterface
  interface Head {
    int test(Variables r);
  }

  /** {@code expr} with its body terms unknown (Kleene's logic for and, or and not). */
  static Head head(Vars.Expr expr) {
    return switch (expr) {
      case Vars.Term t -> {
        if (t.body() != null) {
          yield r -> UNKNOWN;
        }
        var m = VarsMatcher.compile(t);
        yield r -> m.matches(r) ? YES : NO;
      }
      case Vars.Group g -> {
        var terms = g.terms().stream().map(BodyTerms::head).toArray(Head[]::new);
        boolean all = g.all();
        Head h =
            r -> {
              int out = all ? YES : NO;
              for (var t : terms) {
                int v = t.test(r);
                if (v == (all ? NO : YES)) {
                  return v;
                }
                if (v == UNKNOWN) {
                  out = UNKNOWN;
                }
              }
              return out;
            };
        yield g.not() ? r -> not(h.test(r)) : h;
      }
    };
  }

  private static int not(int v) {
    return v == UNKNOWN ? UNKNOWN : 1 - v;
  }

  /** One term on the body, without its {@code !} (the caller applies it). */
  static VarsMatcher compile(Vars.Term t) {
    var path = t.body();
    var value = t.value();
    return switch (t.op()) {
      case EQ -> equal(path, value);
      case NE -> {
        var eq = equal(path, value);
        yield r -> !eq.matches(r);
      }
      case GT, GE, LT, LE -> {
        double want = value.isNumber() ? value.doubleValue() : Double.parseDouble(value.asText());
        var op = t.op();
        yield r -> {
          if (!(r.bodyValue(path) instanceof String s)) {
            return false;
          }
          double d;
          try {
            d = Double.parseDouble(s);
          } catch (NumberFormatException e) {
            return false;
          }
          return switch (op) {
            case GT -> d > want;
            case GE -> d >= want;
            case LT -> d < want;
            default -> d <= want;
          };
        };
      }
      case REGEX, REGEX_CI -> {
        var p = t.regex();
        yield r -> r.bodyValue(path) instanceof String s && io.archway.model.UserRegex.find(p, s);
      }
      case IN -> {
        Set<String> set = new HashSet<>();
        value.forEach(v -> set.add(v.asText()));
        yield r -> r.bodyValue(path) instanceof String s && set.contains(s);
      }
      case HAS -> {
        var want = value.asText();
        yield r -> r.bodyValue(path) instanceof List<?> l && l.contains(want);
      }
      case IPMATCH -> {
        var cidrs = t.cidrs().stream().map(Cidr::parse).toList();
        yield r -> {
          if (!(r.bodyValue(path) instanceof String s)) {
            return false;
          }
          try {
            var a = Cidr.literal(s);
            return cidrs.stream().anyMatch(c -> c.contains(a));
          } catch (IllegalArgumentException e) {
            return false;
          }
        };
      }
    };
  }

  private static VarsMatcher equal(
      io.archway.model.BodyPath path, com.fasterxml.jackson.databind.JsonNode value) {
    if (value.isNumber()) {
      double want = value.doubleValue();
      return r -> {
        if (!(r.bodyValue(path) instanceof String s)) {
          return false;
        }
        try {
          return Double.parseDouble(s) == want;
        } catch (NumberFormatException e) {
          return false;
        }
      };
    }
    var want = value.asText();
    return r -> r.bodyValue(path) instanceof String s && s.equals(want);
  }
}
