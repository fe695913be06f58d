package io.loomkv.tools;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.joran.spi.JoranException;
import java.net.URL;
import java.util.Locale;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;

/**
 * Switches the process's log lines between text and JSON at run time, for {@code loomkv server
 * --log-format} (a key of the node's config file too): logback has read its configuration before
 * the command line is parsed, so the choice is made the way logback.xml reads it
 * ({@value #VARIABLE}, as a system property) and logback reads its configuration again. Without
 * the switch, {@value #VARIABLE} in the environment chooses for every loomkv command.
 */
final class LogFormat {
    /** What logback.xml reads to choose its appender: {@code text} or {@code json}. */
    static final String VARIABLE = "LOOMKV_LOG_FORMAT";

    private LogFormat() {
    }

    /**
     * Uses {@code format} ({@code text} or {@code json}) from now on. Nothing happens when logging
     * is not logback (an embedding application's choice) or the format is the current one.
     */
    static void use(String format) {
        use(format, null);
    }

    /** The same, reading {@code configuration} (null: the file logback finds itself, as at start). */
    static void use(String format, URL configuration) {
        String wanted = format.toLowerCase(Locale.ROOT);
        if (!wanted.equals("text") && !wanted.equals("json")) {
            throw new IllegalArgumentException("log format must be text or json, got '" + format + "'");
        }
        ILoggerFactory factory = LoggerFactory.getILoggerFactory();
        if (!(factory instanceof LoggerContext context) || wanted.equals(current().toLowerCase(Locale.ROOT))) {
            return;
        }
        System.setProperty(VARIABLE, wanted);
        context.reset();
        try {
            if (configuration == null) {
                new ContextInitializer(context).autoConfig();
            } else {
                JoranConfigurator configurator = new JoranConfigurator();
                configurator.setContext(context);
                configurator.doConfigure(configuration);
            }
        } catch (JoranException e) {
            throw new IllegalStateException("could not configure logging again for the " + wanted + " format: " + e.getMessage(), e);
        }
    }

    /** The format logback.xml chose: the property, else the environment, else text. */
    static String current() {
        String property = System.getProperty(VARIABLE);
        if (property != null) {
            return property;
        }
        String environment = System.getenv(VARIABLE);
        return environment == null || environment.isBlank() ? "text" : environment;
    }
}
