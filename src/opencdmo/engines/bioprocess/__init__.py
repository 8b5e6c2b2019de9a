"""Fed-batch CHO monoclonal-antibody bioreactor simulator (digital twin) with faults.

Pure engine: numpy/scipy in, dataclasses and arrays out; no Django.
"""
