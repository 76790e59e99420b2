package io.archway.operator.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import picocli.CommandLine;

/**
 * {@code archway-operator run|seed|translate|validate|flow [options]}; {@code --help} on each lists
 * its options, {@code --version} says which build it is. Exit status 2 on a usage error.
 */
public final class Main {

  private Main() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  static int run(String[] args, PrintStream out, PrintStream err) {
    return commandLine(out, err).execute(args);
  }

  static CommandLine commandLine(PrintStream out, PrintStream err) {
    var cl = new CommandLine(new OperatorCommand(out, err));
    cl.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
    cl.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
    // The last of a repeated single-valued option wins, as in most tools.
    cl.setOverwrittenOptionsAllowed(true);
    cl.setColorScheme(CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF));
    cl.setHelpFactory(OperatorCommand::help);
    cl.setUsageHelpWidth(100);
    // A command's header is its line in the list of commands; its own help starts at "Usage:".
    for (var command : cl.getSubcommands().values()) {
      var sections = new ArrayList<>(command.getHelpSectionKeys());
      sections.remove(CommandLine.Model.UsageMessageSpec.SECTION_KEY_HEADER);
      command.setHelpSectionKeys(sections);
    }
    cl.setParameterExceptionHandler(
        (e, args) -> {
          var w = e.getCommandLine().getErr();
          w.println("archway-operator: " + e.getMessage());
          CommandLine.UnmatchedArgumentException.printSuggestions(e, w);
          w.println(tryHelp(e.getCommandLine()));
          w.flush();
          return CommandLine.ExitCode.USAGE;
        });
    cl.setExecutionExceptionHandler(
        (e, command, result) -> {
          if (!(e instanceof UsageException)) {
            throw e;
          }
          err.println("archway-operator: " + e.getMessage());
          err.println(tryHelp(command));
          return CommandLine.ExitCode.USAGE;
        });
    return cl;
  }

  private static String tryHelp(CommandLine command) {
    return "Try " + command.getCommandSpec().qualifiedName() + " --help.";
  }
}
