# Reference numbers from R for salesinsight's estimators, fitted on tests/data/reference/world.csv
# (the bundled sample's feature table, written by tests/reference/make_world.py).
#
# Run from the repository root (R with the survival and sandwich packages; on Debian:
# apt-get install r-base-core r-cran-survival r-cran-sandwich):
#
#     Rscript tests/reference/make_r_results.R
#
# It writes tests/data/reference/r_results.csv (one row per model and term) and
# tests/data/reference/r_km_medians.csv. The tests compare salesinsight's numbers with these
# files; R itself is never run by the tests.

suppressPackageStartupMessages({
  library(survival)
  library(sandwich)
})

here <- "tests/data/reference"
world <- read.csv(file.path(here, "world.csv"), stringsAsFactors = FALSE)
world$product <- factor(world$product)
world$year <- factor(world$created_year)

rows <- list()
add <- function(model, fit, robust, model_based, n, note) {
  est <- coef(fit)
  rows[[length(rows) + 1]] <<- data.frame(
    model = model,
    term = names(est),
    estimate = unname(est),
    std_err = unname(sqrt(diag(robust))),
    std_err_model = unname(sqrt(diag(model_based))),
    n = n,
    how = note,
    stringsAsFactors = FALSE
  )
}

# Deal size of won deals: least squares on log(amount), errors clustered by account.
won <- subset(world, status == "won" & amount > 0)
ols <- lm(log(amount) ~ is_repeat_customer + log_employees + product, data = won)
add("ols_log_amount", ols, vcovCL(ols, cluster = ~account_id, type = "HC1"), vcov(ols),
    nrow(won), "lm; sandwich::vcovCL(cluster = ~account_id, type = 'HC1')")
add("ols_log_amount_hc0", ols, vcovCL(ols, cluster = ~account_id, type = "HC0"), vcov(ols),
    nrow(won), "lm; sandwich::vcovCL(cluster = ~account_id, type = 'HC0')")

# Win rate of closed deals: logistic regression, errors clustered by account.
closed <- subset(world, closed == 1)
logit <- glm(won ~ is_repeat_customer + log_employees + product, data = closed,
             family = binomial())
add("logit_won", logit, vcovCL(logit, cluster = ~account_id, type = "HC0"), vcov(logit),
    nrow(closed), "glm(binomial); sandwich::vcovCL(cluster = ~account_id, type = 'HC0')")
add("logit_won_hc1", logit, vcovCL(logit, cluster = ~account_id, type = "HC1"), vcov(logit),
    nrow(closed), "glm(binomial); sandwich::vcovCL(cluster = ~account_id, type = 'HC1')")

# Time to any close and cause-specific hazard of winning: Cox, Efron ties, clustered by account.
cox_closed <- coxph(Surv(duration_days, closed) ~ is_repeat_customer + log_employees,
                    data = world, ties = "efron", cluster = account_id)
add("cox_closed", cox_closed, cox_closed$var, cox_closed$naive.var, nrow(world),
    "coxph(ties = 'efron', cluster = account_id)")
cox_won <- coxph(Surv(duration_days, status == "won") ~ is_repeat_customer + log_employees,
                 data = world, ties = "efron", cluster = account_id)
add("cox_won", cox_won, cox_won$var, cox_won$naive.var, nrow(world),
    "coxph(Surv(duration_days, status == 'won'), ties = 'efron', cluster = account_id)")

write.csv(do.call(rbind, rows), file.path(here, "r_results.csv"), row.names = FALSE)

# Kaplan-Meier medians of days to close by repeat customer, two interval transforms.
medians <- list()
for (conf in c("log-log", "log", "plain")) {
  km <- survfit(Surv(duration_days, closed) ~ is_repeat_customer, data = world,
                conf.type = conf)
  q <- quantile(km, probs = 0.5)
  medians[[conf]] <- data.frame(
    group = sub("is_repeat_customer=", "", names(km$strata)),
    conf_type = conf,
    median_days = unname(q$quantile[, 1]),
    median_ci_low = unname(q$lower[, 1]),
    median_ci_high = unname(q$upper[, 1]),
    stringsAsFactors = FALSE
  )
}
write.csv(do.call(rbind, medians), file.path(here, "r_km_medians.csv"), row.names = FALSE)
cat(R.version.string, "| survival", format(packageVersion("survival")),
    "| sandwich", format(packageVersion("sandwich")), "\n")
