# Job environment for the HTCondor jobs (exec_condor.sh -> analysis_condor.py) and a
# self-contained image for analysis.py. Built and run in the tests with podman
# (scripts/image.sh; README "Container").
#
#   podman build -t pmtgain .                                # fast/integral engines
#   podman build --build-arg WITH_ROOT=1 -t pmtgain:root .   # + PyROOT and g++ (its cling)
#   podman run --rm -v $PWD/outputs:/work/outputs pmtgain    # analysis.py on data_info/
#   podman run --rm pmtgain python3 /opt/pmtgain/analysis.py --demo   # the demo campaign
#   (docker build / docker run alike)
#
# Dependencies are pinned by constraints.txt, shared with scripts/setup.sh: the image is
# the same whatever day it is built.
# On CYGNO's queue: PMTGAIN_IMAGE=docker://<registry>/pmtgain:<tag> source submit_condor_jobs.sh
FROM python:3.11-slim-bookworm

ARG WITH_ROOT=0
ENV PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MPLBACKEND=Agg

# ROOT's cling compiles at run time: it needs a C++ compiler and the standard headers
RUN if [ "$WITH_ROOT" = 1 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends g++ && rm -rf /var/lib/apt/lists/*; fi

WORKDIR /opt/pmtgain
COPY pyproject.toml README.md constraints.txt ./
COPY pmtgain ./pmtgain
RUN if [ "$WITH_ROOT" = 1 ]; then pip install -c constraints.txt ".[root]"; \
    else pip install -c constraints.txt .; fi \
    && python3 -c "import pmtgain.point.process, pmtgain.io.fetch, pmtgain.report.plots"

COPY analysis.py gain_curve.py analysis_condor.py exec_condor.sh \
     list_directories_condor.py submit_condor_jobs.sh ./
COPY data_info ./data_info

# A non-root user: HTCondor and Singularity run jobs as the submitter anyway.
RUN useradd --create-home pmtgain && mkdir /work && chown pmtgain /work
USER pmtgain
WORKDIR /work
ENTRYPOINT []
CMD ["sh", "-c", "cp -rn /opt/pmtgain/data_info . 2>/dev/null; python3 /opt/pmtgain/analysis.py"]
