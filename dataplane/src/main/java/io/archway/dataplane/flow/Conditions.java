package io.archway.dataplane.flow;

import io.archway.dataplane.route.Variables;
import io.archway.model.FlowCondition;
import java.util.function.Predicate;

/** Flow edge conditions compiled to predicates over variables, once per config change. */
final class Conditions {

  private Conditions() {}

  static Predicate<Variables> compile(FlowCondition.Expr expr) {
    return switch (expr) {
      case FlowCondition.Or or -> {
        var terms = or.terms().stream().map(Conditions::compile).toList();
        yield v -> {
          for (var t : terms) {
            if (t.test(v)) {
              return true;
            }
          }
          return false;
        };
      }
      case FlowCondition.And and -> {
        var terms = and.terms().stream().map(Conditions::compile).toList();
        yield v -> {
          for (var t : terms) {
            if (!t.test(v)) {
              return false;
            }
          }
          return true;
        };
      }
      case FlowCondition.Not not -> compile(not.term()).negate();
      case FlowCondition.Present p -> {
        var name = p.name();
        yield v -> {
          var s = v.get(name);
          return s != null && !s.isEmpty() && !s.equals("false") && !s.equals("0");
        };
      }
      case FlowCondition.Compare c -> compare(c);
    };
  }

  private static Predicate<Variables> compare(FlowCondition.Compare c) {
    var name = c.name();
    var want = c.value();
    var number = c.number();
    return switch (c.op()) {
      case EQ -> v -> equal(v.get(name), want, number);
      case NE -> v -> !equal(v.get(name), want, number);
      case REGEX -> {
        var p = c.regex();
        yield v -> {
          var s = v.get(name);
          return s != null && io.archway.model.UserRegex.find(p, s);
        };
      }
      case LT, LE, GT, GE -> {
        double n = number;
        var op = c.op();
        yield v -> {
          var d = asNumber(v.get(name));
          if (d == null) {
            return false;
          }
          return switch (op) {
            case LT -> d < n;
            case LE -> d <= n;
            case GT -> d > n;
            default -> d >= n;
          };
        };
      }
    };
  }

  private static boolean equal(String have, String want, Double number) {
    if (want == null) {
      return have == null;
    }
    if (have == null) {
      return false;
    }
    if (number != null) {
      var d = asNumber(have);
      return d != null && d.doubleValue() == number;
    }
    return have.equals(want);
  }

  private static Double asNumber(String s) {
    if (s == null || s.isEmpty()) {
      return null;
    }
    try {
      return Double.parseDouble(s);
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
